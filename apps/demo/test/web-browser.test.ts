/// <reference lib="dom" />
/**
 * The web app in a real browser: Debian's chromium at /usr/bin/chromium,
 * driven by playwright-core, against the static files scripts/build-web.mjs
 * builds, served by `zonedev web`'s own server (src/web-cli.ts).
 *
 * - x86_64: hot-add a 256 MiB DIMM by typing the QEMU monitor's commands in
 *   the terminal: the map gains memory32 and memory33, offline; online one
 *   movable and it turns Movable; hover shows its sysfs; the trace panel
 *   links __add_memory() to mm/memory_hotplug.c; zoom to section 32 and
 *   click a page: its `page PFN` decode; reload the URL and get the same map.
 * - powerpc: boot it from the picker with two NUMA nodes; a DIMM on node 1
 *   arrives as two LMBs that the guest onlines on node 1.
 * - the picker refuses a bad `-m` with the CLI's message; the tour: its
 *   steps run in the terminal and the map follows.
 * - the terminal prompts as `zonedev shell` does: `> ` inside an unfinished
 *   command; Ctrl-C throws away the line and the unfinished command; Ctrl-D
 *   ends an unfinished command with bash's syntax error and, on an empty
 *   line at the prompt, leaves the machine running.
 *
 * A screenshot per profile goes to apps/demo/test-artifacts/ (kept by CI,
 * not compared). Without /usr/bin/chromium the tests are skipped, saying so.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { staticServer } from '../src/web-cli.js';
import { TOUR_STOPS } from '../src/tour.js';
import { decodeFragment, encodeFragment } from '../src/web/url-state.js';

const CHROMIUM = '/usr/bin/chromium';
const HAVE_CHROMIUM = existsSync(CHROMIUM);
const APP = fileURLToPath(new URL('..', import.meta.url));
const ARTIFACTS = join(APP, 'test-artifacts');
const MEM = '/sys/devices/system/memory';

if (!HAVE_CHROMIUM) {
  console.warn(`web-browser.test.ts: skipped: ${CHROMIUM} is missing (apt-get install chromium)`);
}

describe.skipIf(!HAVE_CHROMIUM)('the web app in chromium', () => {
  let dir: string;
  let server: ReturnType<typeof staticServer>;
  let base: string;
  let browser: Browser;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'zonedev-web-'));
    execFileSync(process.execPath, [join(APP, 'scripts', 'build-web.mjs'), '--outdir', dir], { stdio: 'pipe' });
    server = staticServer(dir);
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', () => done()));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    const { chromium } = await import('playwright-core');
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] });
    mkdirSync(ARTIFACTS, { recursive: true });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await new Promise<void>((done) => (server === undefined ? done() : server.close(() => done())));
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  async function open(fragment: string): Promise<{ page: Page; errors: string[] }> {
    const page = await browser.newPage({ viewport: { width: 1900, height: 1100 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${base}${fragment}`);
    await page.waitForSelector('#map svg');
    return { page, errors };
  }

  const generation = async (page: Page): Promise<number> => Number(await page.getAttribute('#map', 'data-generation'));

  /** Types a line in the terminal and waits until the map was redrawn (when `redraw`) or the prompt is back. */
  async function type(page: Page, line: string, redraw: boolean): Promise<void> {
    const before = await generation(page);
    const ran = Number(await page.getAttribute('#terminal', 'data-commands'));
    await page.click('#terminal');
    await page.keyboard.type(line);
    await page.keyboard.press('Enter');
    await page.waitForFunction((n) => Number(document.getElementById('terminal')!.dataset['commands']) > n, ran);
    if (redraw) await page.waitForFunction((g) => Number(document.getElementById('map')!.dataset['generation']) > g, before);
    expect(await page.getAttribute('#terminal', 'data-last-status')).toBe('0');
  }

  /** The terminal's screen (xterm.js's DOM rows), one string per row, right-trimmed. */
  const screen = async (page: Page): Promise<string[]> =>
    page.$$eval('#terminal .xterm-rows > div', (rows) => rows.map((r) => (r.textContent ?? '').replace(/\u00a0/g, ' ').trimEnd()).filter((r) => r !== ''));

  /** Waits until the terminal's screen shows `text` on a row, and the prompt after it; returns the rows up to it. */
  async function onScreen(page: Page, text: string): Promise<string[]> {
    await page.waitForFunction(
      (t) => {
        const rows = Array.from(document.querySelectorAll('#terminal .xterm-rows > div'), (r) => (r.textContent ?? '').replace(/\u00a0/g, ' ').trimEnd()).filter((r) => r !== '');
        const at = rows.lastIndexOf(t);
        return at >= 0 && at === rows.length - 2 && rows[at + 1] === (document.getElementById('terminal')!.dataset['prompt'] ?? '').trimEnd();
      },
      text,
    );
    return (await screen(page)).slice(0, -1);
  }

  /** Types a line in the terminal and waits until the shell took it (a finished command or one more line of an unfinished one). */
  async function enter(page: Page, line: string): Promise<void> {
    const ran = Number(await page.getAttribute('#terminal', 'data-commands'));
    await page.keyboard.type(line);
    await page.keyboard.press('Enter');
    await page.waitForFunction((n) => Number(document.getElementById('terminal')!.dataset['commands']) > n, ran);
  }

  const prompt = async (page: Page): Promise<string | null> => page.getAttribute('#terminal', 'data-prompt');

  const blocks = async (page: Page): Promise<string[]> =>
    page.$$eval('#map g.block', (gs) => gs.map((g) => `${(g as SVGGElement).dataset['block']}:${(g as SVGGElement).dataset['state']}:${(g as SVGGElement).dataset['zone']}:${(g as SVGGElement).dataset['nid']}`));

  it('x86_64: device_add gains offline blocks; online movable; hover, trace, page decode, reload', async () => {
    const { page, errors } = await open('#platform=x86_64&m=2G,slots=2,maxmem=4G&numa=1&seed=1');
    expect(await page.textContent('#boot-status')).toBe('x86_64 (4-level paging): QEMU pc (i440FX) with SeaBIOS, 2048 MiB RAM, 2 slots up to 4096 MiB, 1 NUMA node');
    const boot = await blocks(page);
    expect(boot.length).toBe(16);
    expect(boot.every((b) => b.split(':')[1] === 'online')).toBe(true);

    await type(page, 'object_add memory-backend-ram,id=mem1,size=256M', false);
    await type(page, 'device_add pc-dimm,id=dimm1,memdev=mem1', true);
    expect((await blocks(page)).slice(16)).toEqual(['32:offline::0', '33:offline::0']);
    expect(await page.getAttribute('#map g.block[data-block="32"] rect', 'stroke-dasharray')).toBe('3 2');
    // The trace panel: the guest's __add_memory(), linked to v5.13 and to the model.
    const first = page.locator('#trace a.kfn').first();
    expect(await first.textContent()).toBe('__add_memory');
    expect(await first.getAttribute('href')).toBe('https://elixir.bootlin.com/linux/v5.13/source/mm/memory_hotplug.c');

    await type(page, `echo online_movable > ${MEM}/memory32/state`, true);
    expect((await blocks(page)).slice(16)).toEqual(['32:online:Movable:0', '33:offline::0']);

    await page.hover('#map g.block[data-block="33"]');
    await page.waitForSelector('#hover-info[data-block="33"]');
    const facts = await page.$$eval('#hover-info tr', (rows) => rows.map((r) => Array.from(r.querySelectorAll('td'), (td) => td.textContent).join('=')));
    expect(facts).toContain('state=offline');
    expect(facts).toContain('phys_index=00000021');
    expect(facts).toContain('valid_zones=Normal Movable');

    // Zoom to section 32, then click its first page cell.
    await page.click('#map g.section[data-section="32"]');
    await page.waitForSelector('#map g.page');
    expect(await page.getAttribute('#map svg', 'data-view-start')).toBe(String(0x100000000));
    const cell = page.locator('#map g.page').first();
    const box = (await cell.boundingBox())!;
    await page.mouse.click(box.x + 1, box.y + box.height / 2);
    await page.waitForSelector('#page-decode[data-pfn]');
    const decode = (await page.textContent('#page-decode'))!;
    expect(decode.split('\n').slice(0, 2)).toEqual(['# page 0x100000', '*(struct page *)0xffffea0004000000: pfn 0x100000, phys 0x100000000']);
    expect(decode).toContain('section: 32 (present, has memmap, online, hot-added) of memory32, node 0');
    expect(decode).toContain("section 32's memmap: 2 MiB in RAM of node 0, mapped with 2 MiB pages");

    await page.screenshot({ path: join(ARTIFACTS, 'web-x86_64.png') });
    const url = page.url();
    expect(decodeFragment(new URL(url).hash)).toEqual({
      config: { platform: 'x86_64', mmu: '', memory: '2G,slots=2,maxmem=4G', numa: '1', cmdline: '', seed: '1' },
      commands: ['object_add memory-backend-ram,id=mem1,size=256M', 'device_add pc-dimm,id=dimm1,memdev=mem1', `echo online_movable > ${MEM}/memory32/state`],
      view: { start: 0x100000000, end: 0x108000000 },
    });
    const map = await page.innerHTML('#map');
    expect(errors).toEqual([]);

    // The link reproduces the session: the same map.
    const again = await open(url.slice(base.length));
    expect(await again.page.innerHTML('#map')).toBe(map);
    expect(again.errors).toEqual([]);
    await again.page.close();
    await page.close();
  });

  it('powerpc from the picker: a DIMM on node 1 arrives as two LMBs, onlined on node 1', async () => {
    const { page, errors } = await open('');
    await page.selectOption('#platform', 'powerpc');
    await page.fill('#memory', '2G,slots=2,maxmem=4G');
    await page.fill('#numa', '2');
    const before = await generation(page);
    await page.click('#boot');
    await page.waitForFunction((g) => Number(document.getElementById('map')!.dataset['generation']) > g, before);
    expect(await page.textContent('#boot-status')).toBe('powerpc64 (hash MMU, 64K pages): QEMU pseries, 2048 MiB RAM, 2 slots up to 4096 MiB, 2 NUMA nodes');
    expect(await page.$$eval('#map .lane-label', (ls) => ls.map((l) => l.textContent))).toEqual(['/proc/iomem', 'devices', 'node 0 zones', 'node 1 zones', 'memory blocks', 'memmap']);
    expect((await blocks(page)).length).toBe(8);
    await type(page, 'object_add memory-backend-ram,id=mem1,size=512M', false);
    await type(page, 'device_add pc-dimm,id=dimm1,memdev=mem1,node=1', true);
    expect((await blocks(page)).slice(8)).toEqual(['8:online:Normal:1', '9:online:Normal:1']);
    // One 16 MiB vmemmap page from boot memory covers 16 GiB: the new sections' memmap is boot memory's.
    expect(await page.$$eval('#map g.section', (gs) => gs.map((g) => (g as SVGGElement).dataset['memmap']))).toEqual(['boot', 'boot', 'boot']);
    expect(decodeFragment(new URL(page.url()).hash)?.config).toEqual({ platform: 'powerpc', mmu: '', memory: '2G,slots=2,maxmem=4G', numa: '2', cmdline: '', seed: '1' });
    await page.screenshot({ path: join(ARTIFACTS, 'web-powerpc.png') });
    // The wheel zooms in by 2 around the pointer (over memory0: near 0), on a page boundary.
    const b0 = (await page.locator('#map g.block[data-block="0"]').boundingBox())!;
    const gen = await generation(page);
    await page.mouse.move(b0.x + 2, b0.y + b0.height / 2);
    await page.mouse.wheel(0, -100);
    await page.waitForFunction((g) => Number(document.getElementById('map')!.dataset['generation']) > g, gen);
    const start = Number(await page.getAttribute('#map svg', 'data-view-start'));
    expect(Number(await page.getAttribute('#map svg', 'data-view-end')) - start).toBe(2 ** 50);
    expect(start % 2 ** 16).toBe(0);
    expect(start).toBeLessThan(2 ** 28);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('the tour: a step runs its commands in the terminal and the map follows', async () => {
    const { page, errors } = await open('');
    // The picker refuses what `zonedev shell` refuses, in its words, and boots nothing.
    await page.fill('#memory', '2X');
    await page.click('#boot');
    expect(await page.textContent('#boot-status')).toBe("zonedev: web: -m 2X: invalid size '2X'");
    expect(await page.getAttribute('#boot-status', 'class')).toBe('error');
    expect(await page.$('#map svg')).toBeNull();
    await page.click('#tour-start');
    await page.waitForSelector('#tour:not([hidden])');
    expect(await page.textContent('#tour-title')).toBe(`1/${TOUR_STOPS.length} ${TOUR_STOPS[0]!.title}`);
    // Steps 1-4 look; step 5 hot-adds dimm1 (memmap_on_memory).
    for (let i = 0; i < 5; i++) await page.click('#tour-next');
    await page.waitForSelector('#map g.block[data-block="40"]');
    expect(await page.getAttribute('#map g.block[data-block="40"]', 'data-state')).toBe('offline');
    expect(await page.getAttribute('#map g.section[data-section="40"]', 'data-memmap')).toBe('altmap');
    expect(await page.textContent('#tour-say')).toBe(TOUR_STOPS[0]!.steps[4]!.say);
    expect(decodeFragment(new URL(page.url()).hash)?.tour).toBe(1);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('the terminal prompts as `zonedev shell`: `> ` inside a command, Ctrl-C drops it, Ctrl-D does no harm', async () => {
    const { page, errors } = await open('#platform=x86_64&m=2G,slots=2,maxmem=4G&numa=1&seed=1');
    await page.waitForSelector('#terminal[data-prompt]');
    expect(await prompt(page)).toBe('zonedev# ');
    await page.click('#terminal');

    // An unfinished command: `> ` until `done`, then it runs.
    await enter(page, 'for i in 1 2');
    expect(await prompt(page)).toBe('> ');
    await enter(page, 'do echo loop$i');
    expect(await prompt(page)).toBe('> ');
    await enter(page, 'done');
    expect(await prompt(page)).toBe('zonedev# ');
    expect(await page.getAttribute('#terminal', 'data-last-status')).toBe('0');
    expect((await onScreen(page, 'loop2')).slice(-5)).toEqual(['zonedev# for i in 1 2', '> do echo loop$i', '> done', 'loop1', 'loop2']);

    // Ctrl-C at `> `: the line and the unfinished command are gone; the next line is a command of its own.
    await enter(page, 'echo piped |');
    expect(await prompt(page)).toBe('> ');
    await page.keyboard.type('tr a-z A-Z');
    await page.keyboard.press('Control+C');
    await page.waitForSelector('#terminal[data-prompt="zonedev# "]');
    await enter(page, 'echo after');
    expect((await onScreen(page, 'after')).slice(-4)).toEqual(['zonedev# echo piped |', '> tr a-z A-Z^C', 'zonedev# echo after', 'after']);
    expect(decodeFragment(new URL(page.url()).hash)?.commands).toEqual(['for i in 1 2', 'do echo loop$i', 'done', 'echo after']);

    // Ctrl-D inside a command: bash's unexpected end of file, status 2.
    await enter(page, 'echo eof |');
    await page.keyboard.press('Control+D');
    expect((await onScreen(page, '> zonedev: syntax error: unexpected end of file')).slice(-2)).toEqual([
      'zonedev# echo eof |',
      '> zonedev: syntax error: unexpected end of file',
    ]);
    expect(await prompt(page)).toBe('zonedev# ');
    expect(await page.getAttribute('#terminal', 'data-last-status')).toBe('2');
    // Ctrl-D on an empty line at the prompt: a hint, and the machine goes on.
    await page.keyboard.press('Control+D');
    await onScreen(page, 'zonedev# Use "exit" to leave the shell.');
    await enter(page, 'echo alive');
    expect((await onScreen(page, 'alive')).slice(-5)).toEqual([
      'zonedev# echo eof |',
      '> zonedev: syntax error: unexpected end of file',
      'zonedev# Use "exit" to leave the shell.',
      'zonedev# echo alive',
      'alive',
    ]);
    expect(await page.getAttribute('#terminal', 'data-last-status')).toBe('0');
    expect(errors).toEqual([]);

    // A link whose commands end inside an unfinished command opens at `> `, and the next line finishes it.
    const config = { platform: 'x86_64', mmu: '', memory: '2G,slots=2,maxmem=4G', numa: '1', cmdline: '', seed: '1' };
    const again = await open(`#${encodeFragment({ config, commands: ['echo linked |'] })}`);
    await again.page.waitForSelector('#terminal[data-prompt="> "]');
    await again.page.click('#terminal');
    await enter(again.page, 'cat');
    expect((await onScreen(again.page, 'linked')).slice(-3)).toEqual(['zonedev# echo linked |', '> cat', 'linked']);
    expect(await again.page.getAttribute('#terminal', 'data-last-status')).toBe('0');
    expect(again.errors).toEqual([]);
    await again.page.close();
    await page.close();
  });
});
