/**
 * `zonedev web`: its options, `--out DIR`, and the static server (GET of the
 * page and its files, 404 for anything else, including a path that climbs
 * out of the directory).
 */
import { mkdtempSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { WEB_USAGE, parseWebArgs, staticServer, webCommand } from '../src/web-cli.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'zonedev-web-cli-'));
  dirs.push(d);
  return d;
}

/** A built web app in a temporary directory. */
function built(): string {
  const d = tmp();
  writeFileSync(join(d, 'index.html'), '<!doctype html><title>zonedev</title>');
  writeFileSync(join(d, 'app.js'), 'console.log(1);');
  writeFileSync(join(d, 'style.css'), 'body{}');
  writeFileSync(join(d, 'xterm.css'), '.xterm{}');
  writeFileSync(join(d, 'secret.txt'), 'not part of the app');
  return d;
}

function collect(): { out: string[]; err: string[]; io: { stdout: { write(t: string): void }; stderr: { write(t: string): void } } } {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, io: { stdout: { write: (t) => void out.push(t) }, stderr: { write: (t) => void err.push(t) } } };
}

function get(port: number, path: string): Promise<{ status: number; type: string | undefined; body: string }> {
  return new Promise((done, fail) => {
    const req = request({ host: '127.0.0.1', port, path, method: 'GET' }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => done({ status: res.statusCode ?? 0, type: res.headers['content-type'], body }));
    });
    req.on('error', fail);
    req.end();
  });
}

describe('zonedev web', () => {
  it('parses its options and refuses others as usage errors', () => {
    expect(parseWebArgs([])).toEqual({ port: 8413, host: '127.0.0.1', out: undefined, help: false });
    expect(parseWebArgs(['--port', '0', '--host=::1'])).toEqual({ port: 0, host: '::1', out: undefined, help: false });
    expect(parseWebArgs(['--out', 'site'])).toMatchObject({ out: 'site' });
    expect(parseWebArgs(['--port', '70000'])).toEqual({ error: "web: invalid port '70000'" });
    expect(parseWebArgs(['--port'])).toEqual({ error: "web: option '--port' requires an argument" });
    expect(parseWebArgs(['--bogus'])).toEqual({ error: "web: unrecognized option '--bogus'" });
    expect(parseWebArgs(['extra'])).toEqual({ error: "web: unexpected argument 'extra'" });
  });

  it('--help prints the usage; a usage error is status 2', async () => {
    const a = collect();
    expect(await webCommand(['--help'], a.io, built())).toBe(0);
    expect(a.out.join('')).toBe(WEB_USAGE);
    const b = collect();
    expect(await webCommand(['--bogus'], b.io, built())).toBe(2);
    expect(b.err.join('')).toBe("zonedev: web: unrecognized option '--bogus'\nTry 'zonedev help' for more information.\n");
  });

  it('without a build: status 1, saying how to build', async () => {
    const c = collect();
    expect(await webCommand(['--out', join(tmp(), 'x')], c.io, tmp())).toBe(1);
    expect(c.err.join('')).toBe("zonedev: web: the web app is not built (run 'pnpm build' in apps/demo)\n");
  });

  it('--out DIR writes the static files, and only those', async () => {
    const root = built();
    const out = join(tmp(), 'site', 'zonedev');
    const c = collect();
    expect(await webCommand(['--out', out], c.io, root)).toBe(0);
    expect(c.out.join('')).toBe(`zonedev: web app written to ${out}\n`);
    expect(readdirSync(out).sort()).toEqual(['app.js', 'index.html', 'style.css', 'xterm.css']);
    expect(readFileSync(join(out, 'index.html'), 'utf8')).toBe('<!doctype html><title>zonedev</title>');
  });

  it('serves the page and its files; 404 outside the directory', async () => {
    const root = built();
    mkdirSync(join(root, 'sub'));
    const server = staticServer(root);
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', () => done()));
    const { port } = server.address() as AddressInfo;
    try {
      expect(await get(port, '/')).toEqual({ status: 200, type: 'text/html; charset=utf-8', body: '<!doctype html><title>zonedev</title>' });
      expect(await get(port, '/app.js')).toMatchObject({ status: 200, type: 'text/javascript; charset=utf-8' });
      expect((await get(port, '/nope.js')).status).toBe(404);
      expect((await get(port, '/sub')).status).toBe(404);
      expect((await get(port, '/%2e%2e/%2e%2e/etc/passwd')).status).toBe(404);
      expect((await get(port, '/%E0%A4%A')).status).toBe(400);
    } finally {
      await new Promise<void>((done) => server.close(() => done()));
    }
  });
});
