#!/usr/bin/env node
/**
 * `zonedev` — the demo's command line.
 *
 * For now it lists the packages of the stack and what each models; the
 * machines (x86_64 and powerpc profiles), the shell and the guided tour arrive
 * with their own issue.
 */
import { main } from './main.js';

process.exitCode = main(process.argv.slice(2), process.stdout, process.stderr);
