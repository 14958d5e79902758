#!/usr/bin/env node
/**
 * `zonedev` — the demo's command line (see main.ts for the commands).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { main } from './main.js';

async function readStdin(): Promise<string> {
  let text = '';
  process.stdin.setEncoding('utf8');
  for await (const chunk of process.stdin) text += String(chunk);
  return text;
}

// A reader that goes away (`zonedev tour | head`) ends the program quietly,
// as SIGPIPE ends a C program.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw e;
  });
}

process.exitCode = await main(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  readFile: (path) => readFileSync(path, 'utf8'),
  writeFile: (path, text) => writeFileSync(path, text),
  readStdin,
  input: { stream: process.stdin, terminal: process.stdin.isTTY ? process.stdout : undefined },
});
