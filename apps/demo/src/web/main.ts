/// <reference lib="dom" />
/**
 * The web app's page: the machine picker, the memory map, the terminal, the
 * trace panel and the tour, wired together.
 *
 * ```
 *   picker ──boot──> MachineSession (machine-session.ts)
 *   terminal ──line──> session.exec() ──> output to the terminal
 *                                     ├─> trace panel (trace-view.ts)
 *                                     ├─> URL fragment (url-state.ts)
 *                                     └─> facts changed? redraw the map (layout.ts, svg.ts)
 *   map: click a rectangle to zoom into it (the wheel zooms around the
 *        pointer), a page cell for its `page PFN` decode; hover a memory
 *        block for its /sys/devices/system/memory facts
 * ```
 *
 * The terminal runs what `zonedev shell` runs, prompts included: `> `
 * inside an unfinished command (an open quote, `for` without `done`, a
 * trailing `\` or `|`), Ctrl-C throws away the line and the unfinished
 * command, Ctrl-D on an empty line ends an unfinished command (bash's
 * syntax error) and otherwise only says to use `exit`.
 *
 * Two pieces come as chunks loaded after the page: the kernel-symbol table
 * (the trace panel's links, the shell's `where` and `explain`), which is
 * fetched at once and which every command waits for, and the tour, fetched
 * when it starts. Input is handled in order through one queue, so a key
 * typed while a chunk loads waits its turn.
 *
 * The page keeps no state outside the {@link App} object it builds.
 */
import { Terminal } from '@xterm/xterm';
import { layoutMap, wholeView, xToAddr, LABEL_WIDTH, type MapFacts, type MapLayout, type MapView } from './layout.js';
import { renderSvg } from './svg.js';
import { MachineSession } from './machine-session.js';
import type { WebTourStop } from './tour-stops.js';
import { DEFAULT_CONFIG, decodeFragment, encodeFragment, type WebConfig } from './url-state.js';
import { traceIndex, traceLines, type KernelIndex } from './trace-view.js';
import { LineEditor, WEB_PROMPT, type EditorAction } from './line-editor.js';
import { loadKernelSymbols } from './kernel-symbols.js';

/** The terminal wants CRLF. */
function crlf(text: string): string {
  return text.replace(/\r?\n/g, '\r\n');
}

function byId<T extends HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (el === null) throw new Error(`#${id} missing from the page`);
  return el as T;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** The page. */
class App {
  private session: MachineSession | undefined;
  private facts: MapFacts | undefined;
  private factsKey = '';
  private view: MapView | undefined;
  private layout: MapLayout | undefined;
  private generation = 0;
  private tourIndex: number | undefined;
  private tourStep = 0;
  private stops: readonly WebTourStop[] = [];
  private readonly term: Terminal;
  private readonly editor: LineEditor;
  private index: KernelIndex = {};
  /** Everything that touches the session runs here, in order. */
  private queue: Promise<void>;

  constructor() {
    this.queue = loadKernelSymbols().then((rows) => {
      this.index = traceIndex(rows);
    });
    this.term = new Terminal({ convertEol: false, fontSize: 13, rows: 24, cols: 96, scrollback: 5000, theme: { background: '#1e1e1e' } });
    this.term.open(byId('terminal'));
    this.editor = new LineEditor((line) => this.complete(line));
    this.term.onData((data) => this.enqueue(() => this.onData(data)));
    byId<HTMLFormElement>('picker').addEventListener('submit', (e) => {
      e.preventDefault();
      const config = this.readPicker();
      this.enqueue(() => {
        this.tourIndex = undefined;
        this.start(config, [], undefined);
      });
    });
    byId<HTMLSelectElement>('platform').addEventListener('change', () => this.fillMmu());
    byId('zoom-whole').addEventListener('click', () => this.setView(undefined));
    byId('zoom-out').addEventListener('click', () => this.zoomOut());
    byId('tour-start').addEventListener('click', () => this.enqueue(async () => this.startTour(0, await this.loadTour())));
    byId('tour-next').addEventListener('click', () => this.enqueue(() => this.tourNext()));
    const map = byId('map');
    map.addEventListener('click', (e) => this.onMapClick(e));
    map.addEventListener('mousemove', (e) => this.onMapHover(e));
    map.addEventListener('wheel', (e) => this.onWheel(e), { passive: false });
    window.addEventListener('hashchange', () => this.enqueue(() => this.fromFragment()));
    window.addEventListener('resize', () => this.draw());
    this.enqueue(() => this.fromFragment());
  }

  /** Runs `job` after everything queued before it; an error in it is the page's error, as if thrown by an event handler. */
  private enqueue(job: () => void | Promise<void>): void {
    this.queue = this.queue.then(job).catch((e: unknown) => {
      setTimeout(() => {
        throw e;
      });
    });
  }

  /** The tour's stops, from their chunk. */
  private async loadTour(): Promise<readonly WebTourStop[]> {
    if (this.stops.length === 0) this.stops = (await import('./tour-stops.js')).tourStops();
    return this.stops;
  }

  /** Boots what the fragment says, or the picker's defaults. */
  private async fromFragment(): Promise<void> {
    if (this.session !== undefined && location.hash.slice(1) === this.fragment()) return;
    const state = decodeFragment(location.hash);
    if (state === undefined) {
      this.start(DEFAULT_CONFIG, [], undefined);
      return;
    }
    if (state.tour !== undefined && state.tour <= (await this.loadTour()).length) {
      this.tourIndex = state.tour - 1;
      this.tourStep = 0;
    } else this.tourIndex = undefined;
    this.start(state.config, state.commands, state.view);
  }

  private fillMmu(): void {
    const platform = byId<HTMLSelectElement>('platform').value;
    const mmu = byId<HTMLSelectElement>('mmu');
    const modes = platform === 'powerpc' ? ['hash', 'radix'] : ['4level', '5level'];
    const keep = modes.includes(mmu.value) ? mmu.value : '';
    mmu.innerHTML = `<option value="">default</option>${modes.map((m) => `<option value="${m}">${m}</option>`).join('')}`;
    mmu.value = keep;
  }

  private readPicker(): WebConfig {
    const v = (id: string): string => byId<HTMLInputElement | HTMLSelectElement>(id).value.trim();
    return { platform: v('platform'), mmu: v('mmu'), memory: v('memory'), numa: v('numa'), cmdline: v('cmdline'), seed: v('seed') };
  }

  private writePicker(c: WebConfig): void {
    byId<HTMLSelectElement>('platform').value = c.platform;
    this.fillMmu();
    byId<HTMLSelectElement>('mmu').value = c.mmu;
    byId<HTMLInputElement>('memory').value = c.memory;
    byId<HTMLInputElement>('numa').value = c.numa;
    byId<HTMLInputElement>('cmdline').value = c.cmdline;
    byId<HTMLInputElement>('seed').value = c.seed;
  }

  /** Boots a machine and replays `commands` on it. */
  private start(config: WebConfig, commands: readonly string[], view: MapView | undefined): void {
    const stop = this.tourIndex === undefined ? undefined : this.stops[this.tourIndex];
    this.writePicker(stop?.config ?? config);
    this.term.reset();
    const booted = stop !== undefined ? MachineSession.bootOptions(stop.config, stop.machine) : MachineSession.boot(config);
    const status = byId('boot-status');
    if ('error' in booted) {
      this.session = undefined;
      status.textContent = booted.error;
      status.className = 'error';
      this.term.write(crlf(`${booted.error}\n`));
      byId('map').innerHTML = '';
      return;
    }
    this.session = booted;
    status.textContent = booted.machine.description;
    status.className = '';
    this.term.write(crlf(booted.banner()));
    this.view = view;
    this.facts = undefined;
    this.factsKey = '';
    let last: ReturnType<MachineSession['exec']> | undefined;
    let lastLine: string | undefined;
    for (const line of commands) {
      this.term.write(`${booted.prompt}${crlf(line)}\r\n`);
      const r = booted.exec(line);
      this.term.write(crlf(r.output));
      if (!booted.continuing) {
        last = r;
        lastLine = line;
      }
      this.editor.remember(line);
    }
    if (stop !== undefined) this.tourStep = this.stepsDone(stop, commands.length);
    this.showTour();
    this.showTrace(last?.trace ?? [], lastLine);
    this.redraw(true);
    this.prompt();
    byId('terminal').dataset['commands'] = String(booted.history.length);
    this.updateFragment();
    this.term.focus();
  }

  /** How many whole tour steps `n` commands are. */
  private stepsDone(stop: WebTourStop, n: number): number {
    let k = 0;
    let used = 0;
    while (k < stop.steps.length && used + stop.steps[k]!.commands.length <= n) used += stop.steps[k++]!.commands.length;
    return k;
  }

  private fragment(): string {
    if (this.session === undefined) return location.hash.slice(1);
    return encodeFragment({
      config: this.session.config,
      commands: this.session.history,
      ...(this.tourIndex !== undefined ? { tour: this.tourIndex + 1 } : {}),
      ...(this.view !== undefined ? { view: this.view } : {}),
    });
  }

  private updateFragment(): void {
    const f = this.fragment();
    if (location.hash.slice(1) !== f) history.replaceState(null, '', `#${f}`);
    byId<HTMLAnchorElement>('permalink').href = `#${f}`;
  }

  private complete(line: string): [string[], string] {
    const s = this.session;
    if (s === undefined) return [[], ''];
    const words = line.split(/\s+/);
    const word = words[words.length - 1] ?? '';
    if (words.length <= 1) return [s.shell.commands().map((c) => `${c.name} `).filter((n) => n.startsWith(word)).sort(), word];
    const slash = word.lastIndexOf('/');
    const dir = slash < 0 ? '/' : word.slice(0, slash + 1);
    try {
      const names = s.shell.fs.list(s.shell.path(dir)).filter((n) => n.startsWith(word.slice(slash + 1)));
      const base = slash < 0 ? '' : dir;
      return [names.map((n) => `${base}${n}${s.shell.fs.isDir(s.shell.path(`${base}${n}`)) ? '/' : ''}`), word];
    } catch {
      return [[], word];
    }
  }

  /** Writes the prompt the shell is at (`> ` inside an unfinished command) and tells the editor. */
  private prompt(): void {
    const p = this.session?.prompt ?? WEB_PROMPT;
    this.editor.prompt = p;
    const t = byId('terminal');
    t.dataset['prompt'] = p;
    this.term.write(p);
  }

  private onData(data: string): void {
    for (const a of this.editor.feed(data).actions) this.act(a);
  }

  private act(a: EditorAction): void {
    switch (a.kind) {
      case 'echo':
        this.term.write(a.text);
        return;
      case 'clear':
        this.term.clear();
        return;
      case 'line':
        this.runLine(a.text);
        return;
      case 'interrupt':
        this.session?.interrupt();
        this.afterCommand(undefined);
        this.prompt();
        return;
      case 'eof': {
        const s = this.session;
        if (s === undefined) return;
        const r = s.endOfInput();
        this.term.write(crlf(r.output));
        this.afterCommand(r.status);
        this.prompt();
        return;
      }
    }
  }

  /** Runs a typed line (or a tour command) and updates everything it touches. */
  private runLine(line: string): void {
    const s = this.session;
    if (s === undefined || (line.trim() === '' && !s.continuing)) {
      this.prompt();
      return;
    }
    const r = s.exec(line);
    this.term.write(crlf(r.output));
    if (r.exited) {
      this.term.write('exit\r\n(the machine is halted: boot again from the picker)\r\n');
      this.session = undefined;
      return;
    }
    if (!s.continuing) {
      this.showTrace(r.trace, line);
      this.redraw(false);
      this.afterCommand(r.status);
    } else this.afterCommand(undefined);
    this.prompt();
  }

  /** The fragment and the terminal's data attributes after a line: the history and the last status (when a command finished). */
  private afterCommand(status: number | undefined): void {
    const s = this.session;
    if (s === undefined) return;
    this.updateFragment();
    const t = byId('terminal');
    if (status !== undefined) t.dataset['lastStatus'] = String(status);
    t.dataset['commands'] = String(s.history.length);
  }

  // ---------------------------------------------------------------- the map

  /** Recomputes the facts; redraws when they changed (or when forced). */
  private redraw(force: boolean): void {
    const s = this.session;
    if (s === undefined) return;
    const facts = s.facts();
    const key = JSON.stringify(facts);
    if (!force && key === this.factsKey) return;
    this.facts = facts;
    this.factsKey = key;
    this.draw();
  }

  private draw(): void {
    const facts = this.facts;
    if (facts === undefined) return;
    const map = byId('map');
    const width = Math.max(map.clientWidth, 640);
    this.layout = layoutMap(facts, { width, ...(this.view !== undefined ? { view: this.view } : {}) });
    map.innerHTML = renderSvg(this.layout);
    this.generation++;
    map.dataset['generation'] = String(this.generation);
    const v = this.layout.view;
    byId('view-range').textContent = `[0x${v.start.toString(16)}, 0x${v.end.toString(16)})`;
  }

  private setView(view: MapView | undefined): void {
    this.view = view;
    this.draw();
    this.updateFragment();
  }

  private zoomOut(): void {
    if (this.facts === undefined) return;
    const whole = wholeView(this.facts);
    const v = this.view ?? whole;
    const size = (v.end - v.start) * 4;
    if (size >= whole.end - whole.start) return this.setView(undefined);
    const start = Math.max(0, Math.min(whole.end - size, v.start - (size - (v.end - v.start)) / 2));
    this.setView({ start: Math.floor(start), end: Math.floor(start) + size });
  }

  /** The wheel zooms around the address under the pointer: in by 2 (down to one page), out by 2. */
  private onWheel(e: WheelEvent): void {
    const layout = this.layout;
    const facts = this.facts;
    const svg = byId('map').querySelector('svg');
    if (layout === undefined || facts === undefined || svg === null || e.deltaY === 0) return;
    e.preventDefault();
    const box = svg.getBoundingClientRect();
    const x = ((e.clientX - box.left) / box.width) * layout.width - LABEL_WIDTH;
    if (x < 0) return;
    const at = xToAddr(layout.axis, x);
    const whole = wholeView(facts);
    const v = layout.view;
    const size = e.deltaY < 0 ? Math.max(Math.floor((v.end - v.start) / 2), 2 ** facts.pageShift) : (v.end - v.start) * 2;
    if (size >= whole.end - whole.start) return this.setView(undefined);
    const f = (at - v.start) / (v.end - v.start);
    const page = 2 ** facts.pageShift;
    const start = Math.min(Math.max(Math.floor((at - f * size) / page) * page, 0), whole.end - size);
    this.setView({ start, end: start + size });
  }

  private rectOf(e: MouseEvent): SVGGElement | undefined {
    const t = e.target as Element | null;
    const g = t?.closest('g.r');
    return g === null || g === undefined ? undefined : (g as SVGGElement);
  }

  private onMapClick(e: MouseEvent): void {
    const g = this.rectOf(e);
    const s = this.session;
    const layout = this.layout;
    if (g === undefined || s === undefined || layout === undefined) return;
    if (g.classList.contains('page')) {
      const svg = g.ownerSVGElement!;
      const box = svg.getBoundingClientRect();
      const x = ((e.clientX - box.left) / box.width) * layout.width - LABEL_WIDTH;
      const addr = xToAddr(layout.axis, x);
      const first = Number(g.dataset['pfn']);
      const nr = Number(g.dataset['pages']);
      const pfn = Math.min(Math.max(Math.floor(addr / 2 ** (this.facts?.pageShift ?? 12)), first), first + nr - 1);
      const out = byId('page-decode');
      out.textContent = `# page 0x${pfn.toString(16)}\n${s.pageDecode(pfn)}`;
      out.dataset['pfn'] = String(pfn);
      return;
    }
    const idx = Array.from(byId('map').querySelectorAll('g.r')).indexOf(g);
    const hit = layout.rects[idx];
    if (hit === undefined) return;
    if (hit.end - hit.start <= 2 ** (this.facts?.pageShift ?? 12)) return;
    this.setView({ start: hit.start, end: hit.end });
  }

  private onMapHover(e: MouseEvent): void {
    const g = this.rectOf(e);
    const info = byId('hover-info');
    const s = this.session;
    if (g === undefined || s === undefined) return;
    const block = g.dataset['block'];
    if (block !== undefined && info.dataset['block'] !== block) {
      const attrs = s.blockSysfs(Number(block));
      info.dataset['block'] = block;
      info.innerHTML =
        `<b>/sys/devices/system/memory/memory${escapeHtml(block)}</b>` +
        `<table>${attrs.map(([k, v]) => `<tr><td>${escapeHtml(k)}</td><td>${escapeHtml(v)}</td></tr>`).join('')}</table>`;
      return;
    }
    if (block === undefined) {
      delete info.dataset['block'];
      const title = g.querySelector('title')?.textContent ?? '';
      info.innerHTML = `<pre>${escapeHtml(title)}</pre>`;
    }
  }

  // -------------------------------------------------------------- the trace

  private showTrace(events: Parameters<typeof traceLines>[0], command: string | undefined): void {
    const panel = byId('trace');
    const lines = traceLines(events, this.index);
    const head = command === undefined ? 'No command yet.' : `# ${escapeHtml(command)}: ${lines.length} traced call${lines.length === 1 ? '' : 's'}`;
    const shown = lines.slice(0, 2000);
    panel.innerHTML =
      `<div class="trace-head">${head}</div><ol class="trace-lines">` +
      shown
        .map((l) => {
          const args = escapeHtml(l.args.join(', '));
          const res = l.result === undefined ? '' : ` = ${escapeHtml(l.result)}`;
          const model = l.modelUrl === undefined ? '' : ` <a class="model" href="${l.modelUrl}" target="_blank" rel="noopener" title="${escapeHtml(l.modelFile ?? '')}">model</a>`;
          return (
            `<li style="padding-left:${l.depth * 14}px"><a class="kfn" href="${l.kernelUrl}" target="_blank" rel="noopener" title="${escapeHtml(l.kernelFile ?? 'identifier search')}">${escapeHtml(l.name)}</a>` +
            `(${args})${l.hasChildren ? ' {…}' : ''}${res}${model}</li>`
          );
        })
        .join('') +
      `</ol>${lines.length > shown.length ? `<div>… ${lines.length - shown.length} more</div>` : ''}`;
  }

  // --------------------------------------------------------------- the tour

  private startTour(i: number, stops: readonly WebTourStop[]): void {
    const stop = stops[i];
    if (stop === undefined) return;
    this.tourIndex = i;
    this.tourStep = 0;
    this.start(stop.config, [], undefined);
  }

  private async tourNext(): Promise<void> {
    const stops = await this.loadTour();
    if (this.tourIndex === undefined) return this.startTour(0, stops);
    const stop = stops[this.tourIndex]!;
    const step = stop.steps[this.tourStep];
    if (step === undefined) {
      if (this.tourIndex + 1 < stops.length) this.startTour(this.tourIndex + 1, stops);
      return;
    }
    this.term.write('\b \b'.repeat(this.editor.line.length));
    this.editor.line = '';
    // A step starts from the `zonedev# ` prompt, as in `zonedev tour`.
    this.session?.interrupt();
    for (const c of step.commands) {
      this.term.write(crlf(`${c}\n`));
      this.editor.remember(c);
      this.runLine(c);
    }
    this.tourStep++;
    this.showTour();
  }

  private showTour(): void {
    const panel = byId('tour');
    if (this.tourIndex === undefined) {
      panel.hidden = true;
      return;
    }
    const stop = this.stops[this.tourIndex]!;
    panel.hidden = false;
    const done = stop.steps[this.tourStep - 1];
    const next = stop.steps[this.tourStep];
    byId('tour-title').textContent = `${this.tourIndex + 1}/${this.stops.length} ${stop.title}`;
    byId('tour-say').textContent = done === undefined ? `$ ${stop.invocation}` : done.say;
    byId('tour-next').textContent =
      next !== undefined ? `Next: ${next.commands.join('; ').slice(0, 80)}` : this.tourIndex + 1 < this.stops.length ? 'Next machine' : 'End of the tour';
  }
}

new App();
