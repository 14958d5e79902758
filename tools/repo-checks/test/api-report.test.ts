// The API gate: api-extractor without --local fails when the built API
// differs from the committed report, and when an export lacks a release tag.
// It runs on a scratch copy of @zonedev/kernel (built there with tsc).
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyIntoScratch, makeScratch, removeScratch, runBin } from './helpers.js';

describe('api-extractor gate', () => {
  let dir: string;
  let pkg: string;
  let index: string;
  beforeAll(() => {
    dir = makeScratch('api');
    copyIntoScratch(dir, ['tsconfig.base.json', 'api-extractor.base.json', 'packages/kernel']);
    pkg = join(dir, 'packages/kernel');
    index = readFileSync(join(pkg, 'src/index.ts'), 'utf8');
    // Start from a report that matches the sources (the real gate checks the
    // committed one; this test checks that the gate notices a difference).
    expect(runBin('tsc', ['-b'], pkg).output).toBe('');
    expect(runBin('api-extractor', ['run', '--local'], pkg).status).toBe(0);
    // A build and an extraction: longer than vitest's 10 s hook default on a busy machine.
  }, 120_000);
  afterAll(() => removeScratch(dir));

  const extract = (): ReturnType<typeof runBin> => {
    const build = runBin('tsc', ['-b'], pkg);
    expect(build.output).toBe('');
    return runBin('api-extractor', ['run'], pkg);
  };

  it('passes when the API matches the committed report', () => {
    writeFileSync(join(pkg, 'src/index.ts'), index);
    const r = extract();
    expect(r.output).toContain('API Extractor completed successfully');
    expect(r.status).toBe(0);
  });

  it('fails when an export is added without updating the report', () => {
    writeFileSync(join(pkg, 'src/index.ts'), index);
    appendFileSync(join(pkg, 'src/index.ts'), '\n/** A probe. @public */\nexport const API_PROBE: number = 1;\n');
    const r = extract();
    expect(r.status).not.toBe(0);
    expect(r.output).toMatch(/API report|API signature/);
  });

  it('fails when an export has no release tag (ae-missing-release-tag)', () => {
    writeFileSync(join(pkg, 'src/index.ts'), index);
    appendFileSync(join(pkg, 'src/index.ts'), '\n/** An untagged probe. */\nexport const API_PROBE: number = 1;\n');
    const r = extract();
    expect(r.status).not.toBe(0);
    expect(r.output).toContain('ae-missing-release-tag');
  });

  it('fails when a public signature uses an unexported type (ae-forgotten-export)', () => {
    writeFileSync(join(pkg, 'src/index.ts'), index);
    appendFileSync(
      join(pkg, 'src/index.ts'),
      '\ninterface Hidden { x: number }\n/** A probe. @public */\nexport function apiProbe(): Hidden { return { x: 1 }; }\n',
    );
    const r = extract();
    expect(r.status).not.toBe(0);
    expect(r.output).toContain('ae-forgotten-export');
  });
});
