/**
 * `zonedev web`: the web app (the memory map and a shell in a browser),
 * served on localhost or written out as static files.
 *
 * ```
 *   zonedev web [--port N] [--host ADDR]   serve dist/web on http://127.0.0.1:N/ (default 8413; 0: any free port)
 *   zonedev web --out DIR                  copy the static files to DIR, for any web server
 * ```
 *
 * The files are those scripts/build-web.mjs builds (`pnpm build` runs it):
 * index.html, the bundled script with every package in it (app.js), the
 * chunks it loads later (chunks/: the kernel-symbol table, the tour) and
 * two stylesheets. The page needs nothing else at run time: no CDN, no
 * server beyond one that hands out files.
 */
import { createServer, type Server } from 'node:http';
import { cpSync, existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Output } from './shell/command.js';

/** Where the build put the web app (dist/web beside this compiled file). */
export function webRoot(): string {
  return fileURLToPath(new URL('./web/', import.meta.url));
}

/** `zonedev web --help`. */
export const WEB_USAGE = `usage: zonedev web [--port N] [--host ADDR]
       zonedev web --out DIR

Serve the web app (the machine's memory map and a shell, in a browser) on
localhost and print its URL, or write its static files to DIR.

options:
  --port N      the port to listen on (default 8413; 0 picks a free one)
  --host ADDR   the address to listen on (default 127.0.0.1)
  --out DIR     copy the static files to DIR and exit
  --help        print this text and exit
`;

/** What `zonedev web` needs from its process. */
export interface WebIo {
  readonly stdout: Output;
  readonly stderr: Output;
}

/** The parsed arguments of `zonedev web`. */
export interface WebArgs {
  readonly port: number;
  readonly host: string;
  readonly out: string | undefined;
  readonly help: boolean;
}

/** Parses the arguments after `web`; returns them or a usage message. */
export function parseWebArgs(argv: readonly string[]): WebArgs | { error: string } {
  let port = 8413;
  let host = '127.0.0.1';
  let out: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--help') return { port, host, out, help: true };
    const eq = a.indexOf('=');
    const name = a.startsWith('--') && eq > 0 ? a.slice(0, eq) : a;
    if (!['--port', '--host', '--out'].includes(name)) {
      return { error: a.startsWith('-') ? `web: unrecognized option '${a}'` : `web: unexpected argument '${a}'` };
    }
    let value = eq > 0 && a.startsWith('--') ? a.slice(eq + 1) : undefined;
    if (value === undefined) {
      if (i + 1 >= argv.length) return { error: `web: option '${name}' requires an argument` };
      value = argv[++i]!;
    }
    if (name === '--port') {
      if (!/^[0-9]+$/.test(value) || Number(value) > 65535) return { error: `web: invalid port '${value}'` };
      port = Number(value);
    } else if (name === '--host') host = value;
    else {
      if (value === '') return { error: "web: invalid output directory ''" };
      out = value;
    }
  }
  return { port, host, out, help: false };
}

const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json',
  '.json': 'application/json',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
};

/**
 * An HTTP server for the files under `root` (GET and HEAD; `/` is
 * index.html). Paths that climb out of `root` or name no file are 404.
 */
export function staticServer(root: string): Server {
  const base = resolve(root);
  return createServer((req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { Allow: 'GET, HEAD' }).end();
      return;
    }
    let path: string;
    try {
      path = decodeURIComponent(new URL(req.url ?? '/', 'http://localhost').pathname);
    } catch {
      res.writeHead(400).end();
      return;
    }
    const file = normalize(join(base, path.endsWith('/') ? `${path}index.html` : path));
    if ((file !== base && !file.startsWith(base + sep)) || !existsSync(file) || !statSync(file).isFile()) {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found\n');
      return;
    }
    const body = readFileSync(file);
    res.writeHead(200, { 'Content-Type': TYPES[extname(file)] ?? 'application/octet-stream', 'Content-Length': body.length, 'Cache-Control': 'no-cache' });
    res.end(req.method === 'HEAD' ? undefined : body);
  });
}

/** The files of the web app: the page, its script (and source map), the directory of its later chunks, and its stylesheets. */
export const WEB_FILES: readonly string[] = ['index.html', 'app.js', 'app.js.map', 'chunks', 'style.css', 'xterm.css'];

/**
 * Runs `zonedev web ARGS`: with `--out`, copies the files and returns 0;
 * otherwise serves them until the process ends (the returned promise
 * resolves with 0 when the server closes). Usage errors return 2, a
 * missing build or a port in use 1.
 */
export async function webCommand(argv: readonly string[], io: WebIo, root: string = webRoot()): Promise<number> {
  const args = parseWebArgs(argv);
  if ('error' in args) {
    io.stderr.write(`zonedev: ${args.error}\nTry 'zonedev help' for more information.\n`);
    return 2;
  }
  if (args.help) {
    io.stdout.write(WEB_USAGE);
    return 0;
  }
  if (!existsSync(join(root, 'index.html')) || !existsSync(join(root, 'app.js'))) {
    io.stderr.write(`zonedev: web: the web app is not built (run 'pnpm build' in apps/demo)\n`);
    return 1;
  }
  if (args.out !== undefined) {
    mkdirSync(args.out, { recursive: true });
    for (const f of WEB_FILES) {
      if (existsSync(join(root, f))) cpSync(join(root, f), join(args.out, f), { recursive: true });
    }
    io.stdout.write(`zonedev: web app written to ${args.out}\n`);
    return 0;
  }
  const server = staticServer(root);
  return new Promise<number>((done) => {
    server.on('error', (e: NodeJS.ErrnoException) => {
      io.stderr.write(`zonedev: web: cannot listen on ${args.host}:${args.port}: ${e.code ?? e.message}\n`);
      done(1);
    });
    server.on('close', () => done(0));
    server.listen(args.port, args.host, () => {
      const addr = server.address();
      const port = typeof addr === 'object' && addr !== null ? addr.port : args.port;
      const host = args.host.includes(':') ? `[${args.host}]` : args.host;
      io.stdout.write(`zonedev web: serving the web app on http://${host}:${port}/ (Ctrl-C to stop)\n`);
    });
  });
}
